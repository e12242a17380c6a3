"""The signed webhook platform: any system POSTs mentions, agents' answers go back signed.

Requests in and answers out follow Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256>``). Each named source
(``[plugins.webhook.sources.<name>]``) has its own secret, path (``/push/webhook/<name>``)
and callback URL.

Modules, one concept each:

* ``plugin``    the pluggy hook implementations (registered as built-in ``webhook``)
* ``settings``  the validated ``[plugins.webhook]`` table and its sources
* ``payload``   the documented JSON body of a pushed mention -> a desk ``Mention``
* ``source``    one source on the push server: signature, freshness, ingest
* ``callback``  the agent's answer as a signed POST to the source's callback URL
"""
