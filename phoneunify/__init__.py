"""The base every phoneunify process shares: settings, named credentials, logging with masking,
the database engine, retry rules, keyed hashes of phone numbers, Kafka topic administration.

It imports only the contracts in `schema`; the workers, the ingest edge, the API and the
`phoneunify` command (package `cli`) import it, never the other way round."""
