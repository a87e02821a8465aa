"""What the plaza's two faces share, the API (``modelplaza.api``) and the pages
(``modelplaza.web``), which never import each other: the request's context (``context``), who
is calling (``principals``), raw paths (``rawpath``), Range headers (``ranges``), error answers
chosen by the kind of route (``errors``) and the JSON shapes both send (``shapes``)."""
