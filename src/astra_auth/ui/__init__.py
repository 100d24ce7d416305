"""The terminal: streams, prompts and the target picker."""
