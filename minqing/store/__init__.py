"""Storage (SQLAlchemy Core + Alembic): the engine, the tables, the migrations, and the queries split by
what they serve. May import minqing.domain, minqing's pure modules and schemas/; nothing of functions/ or
workers/."""
