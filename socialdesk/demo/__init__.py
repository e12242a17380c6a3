"""`socialdesk demo`: the whole desk on SQLite and the local sandbox, with a scripted day."""
