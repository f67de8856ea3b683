"""The blog's API. Its schema comes from Alembic migrations: nothing here creates tables."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from workshop_app.database import engine, get_db
from workshop_app.models import Post, User
from workshop_app.schemas import PostCreate, PostResponse, UserCreate, UserPublic
from workshop_app.security import hash_password


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # No Base.metadata.create_all here: `alembic upgrade head` owns the schema.
    yield
    await engine.dispose()


app = FastAPI(title="Blog", lifespan=lifespan)
Session = Annotated[AsyncSession, Depends(get_db)]


@app.post("/api/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, db: Session) -> User:
    user = User(
        username=data.username, email=data.email, password_hash=hash_password(data.password)
    )
    db.add(user)
    try:
        await db.commit()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, "username or email already taken") from None
    return user


@app.get("/api/posts", response_model=list[PostResponse])
async def list_posts(db: Session) -> list[Post]:
    query = select(Post).options(selectinload(Post.author)).order_by(Post.date_posted.desc())
    return list(await db.scalars(query))


@app.get("/api/posts/{post_id}", response_model=PostResponse)
async def get_post(post_id: int, db: Session) -> Post:
    post = await db.get(Post, post_id, options=[selectinload(Post.author)])
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "post not found")
    return post


@app.post("/api/posts", response_model=PostResponse, status_code=status.HTTP_201_CREATED)
async def create_post(data: PostCreate, db: Session) -> Post:
    if await db.get(User, data.user_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "user not found")
    post = Post(title=data.title, content=data.content, user_id=data.user_id)
    db.add(post)
    await db.commit()
    await db.refresh(post, attribute_names=["author"])
    return post
