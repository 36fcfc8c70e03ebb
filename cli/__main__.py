from yibao.cli import main

raise SystemExit(main())
