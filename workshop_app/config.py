"""The app's settings, read from the environment or from `.env` in the working directory."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # e.g. postgresql+psycopg://blog_user:PASSWORD@localhost:5432/blog
    database_url: str


settings = Settings()
