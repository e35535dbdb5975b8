"""nbgrader's configuration for the exercises in the chapter notebooks.

`make student` (tools/student_versions.py) copies each chapter notebook that has exercises
into a temporary course directory and runs `nbgrader generate_assignment` there; the student
versions land in exercises/. An instructor who runs a course from this repository can point
CourseDirectory.root at a course directory of their own and keep the rest.
"""

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "machine-perception"
# What replaces a solution region in the student version: the exercise's check cell reads
# NotImplementedError as "not tried yet".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# A chapter's notebook trains small models: give each cell time beyond nbgrader's 30 s default.
c.Execute.timeout = 600
c.Execute.allow_errors = True
