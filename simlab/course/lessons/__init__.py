"""The course's lessons: each module holds one lesson's dashboards, figures and exercises."""
