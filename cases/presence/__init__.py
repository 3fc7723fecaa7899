"""Who is replying on a case: heartbeats of the reply box, kept in the cache for seconds."""
