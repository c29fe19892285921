from marketo_stream.cli import main

main()
