from syndicator.cli import main

raise SystemExit(main())
