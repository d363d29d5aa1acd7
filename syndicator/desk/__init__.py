"""The editors' desk: `/desk/` on the worker's HTTP app, when `[desk]` is configured.

Server-rendered pages (Jinja2, autoescaped), a small stylesheet, no JavaScript: the queue (what goes out next, where,
when, and why it waits), the articles with each target's state, one article with each target's post drawn as its
platform shows it (from the exact `Post` that will be sent, edits included), the actions hold / release / resend /
retract behind a confirmation, editing a post's text before it goes out, and the audit trail.

Security as for a public admin page (auth.py): users from the CLI (`syndicator desk-user add NAME`, argon2id),
roles editor and viewer, login rate limiting in the store (shared by every worker), session cookies HttpOnly and
SameSite=Strict (Secure behind HTTPS), a CSRF token on every state-changing request, a strict Content-Security-Policy.
Nothing but the login page and the stylesheet answers without a session.

Importing this package is cheap (the dispatcher applies edits through `edits`); routes, pages and Jinja2 load only
when the desk is served.
"""
