"""The CLI's subcommands, one module per group; ``marketo_stream.cli`` registers them."""
