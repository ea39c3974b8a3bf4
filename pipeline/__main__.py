from speechledger.cli import main

raise SystemExit(main())
