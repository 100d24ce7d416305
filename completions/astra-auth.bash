_astra_auth_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _ASTRA_AUTH_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _astra_auth_completion astra-auth
