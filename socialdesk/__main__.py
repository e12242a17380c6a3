from socialdesk.cli import main

raise SystemExit(main())
