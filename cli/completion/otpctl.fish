# fish completion for otpctl: commands, flags and the running tree's paths.
# Install: otpctl completion fish > ~/.config/fish/completions/otpctl.fish
function __otpctl_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] 2>/dev/null)
    if test (count $out) -eq 0
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $out
    end
end
complete -c otpctl -f -a '(__otpctl_complete)'
