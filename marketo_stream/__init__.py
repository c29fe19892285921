"""marketo-stream: keeps Apache Kafka topics in step with an Adobe Marketo instance."""

__version__ = "0.1.0"
