from workshop_app.workshop.cli import main

raise SystemExit(main())
