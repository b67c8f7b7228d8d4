#compdef otpctl
# zsh completion for otpctl: commands, flags and the running tree's paths.
# Install: otpctl completion zsh > "${fpath[1]}/_otpctl"
#      or: echo 'source <(otpctl completion zsh)' >> ~/.zshrc
_otpctl() {
    local -a out
    out=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if (( ${#out} )) && [[ -n ${out[1]} ]]; then
        compadd -Q -- "${out[@]}"
    else
        _files
    fi
}
if [[ "${funcstack[1]}" == "_otpctl" ]]; then
    _otpctl "$@"
else
    compdef _otpctl otpctl
fi
