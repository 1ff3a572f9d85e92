from jo_cli.cli.app import main

main()
