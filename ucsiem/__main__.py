from ucsiem.cli import main

raise SystemExit(main())
