"""One publisher per platform behind `base.Publisher`. Heavy client libraries are imported only here, lazily."""
