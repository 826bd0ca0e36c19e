"""The profile fetcher: who a Messenger or Instagram sender is, from the Graph API, off the resolve path."""
