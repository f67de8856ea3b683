"""Solutions for chapter 02. Try the exercises first: the notebook's check gives hints."""

# 1. The titles of one author's posts, the author's name as the bound parameter :author.
EXERCISE_1 = """
SELECT p.title
FROM posts p JOIN users u ON u.id = p.user_id
WHERE u.username = :author
ORDER BY p.title
"""

# 2. A URL for blog_user with the password p@ss/w%rd on localhost:5432, database blog.
#    @ / and % mean something in a URL, so the password is percent-encoded:
#    urllib.parse.quote("p@ss/w%rd", safe="") == "p%40ss%2Fw%25rd"
EXERCISE_2 = "postgresql+psycopg://blog_user:p%40ss%2Fw%25rd@localhost:5432/blog"
