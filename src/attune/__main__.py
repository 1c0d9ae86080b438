from attune.cli import main

main()
