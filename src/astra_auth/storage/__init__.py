"""What astra-auth keeps: the config file, secrets in the keyring, token state,
and where each lives."""
