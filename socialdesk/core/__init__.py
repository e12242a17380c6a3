"""The desk's core: hook contract, configuration, store, ticket state machine, outbox."""
