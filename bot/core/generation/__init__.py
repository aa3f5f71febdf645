"""A queued job becoming pictures: the queue, the worker, jobs, operations, the event stream it publishes, and the providers."""
