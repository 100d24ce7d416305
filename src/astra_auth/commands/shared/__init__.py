"""What several commands share and none owns: the renderings of a diagnosis
(`report`) and the login flow (`login_flow`).  Nothing here is a command, and
a command imports these, never another command's module."""
