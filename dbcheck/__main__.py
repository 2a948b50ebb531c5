from dbcheck.cli import main

raise SystemExit(main())
