from stagesync.cli import main

main()
