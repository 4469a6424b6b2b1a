"""The improvement plan: actions with owners and due dates, made one by one or from a verdict's path
to ready; "my actions" across firms, a private calendar feed and a weekly digest."""
