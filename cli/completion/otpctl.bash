# bash completion for otpctl: commands, flags and the running tree's paths.
# Install: otpctl completion bash > /etc/bash_completion.d/otpctl
#      or: echo 'source <(otpctl completion bash)' >> ~/.bashrc
_otpctl() {
    local IFS=$'\n'
    local cur=${COMP_WORDS[COMP_CWORD]}
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _otpctl otpctl
