"""Route modules, one per family of Marketo endpoints; each exposes ``routes(state) -> Router``."""
