from codegateway.cli import main

main()
