"""Each person's notification preferences: per kind of notification, in the portal, by e-mail
each time, or in one daily digest e-mail. The outbox (portal.notifications.notify) reads them;
the digest job (digest.py) sends the collected ones once a day in the person's time zone."""
