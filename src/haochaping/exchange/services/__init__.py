"""Exchange services: the outbox and its sender (lower node), receiving pushes (upper node), reconciliation and
reports sent down. The only modules of this app that change state, besides the history importer."""
