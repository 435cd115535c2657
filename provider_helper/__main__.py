from provider_helper.cli import main

main()
