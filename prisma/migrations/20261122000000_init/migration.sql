-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "channel_counter" (
    "channel" TEXT NOT NULL,
    "last_seq" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "channel_counter_pkey" PRIMARY KEY ("channel")
);

-- CreateTable
CREATE TABLE "event" (
    "channel" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "agent" TEXT,
    "project" TEXT,
    "payload" JSONB NOT NULL,

    CONSTRAINT "event_pkey" PRIMARY KEY ("channel","seq")
);

-- CreateTable
CREATE TABLE "api_token" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "event_id_key" ON "event"("id");

-- CreateIndex
CREATE INDEX "event_channel_agent_seq_idx" ON "event"("channel", "agent", "seq");

-- CreateIndex
CREATE INDEX "event_channel_project_seq_idx" ON "event"("channel", "project", "seq");

-- CreateIndex
CREATE INDEX "event_channel_type_seq_idx" ON "event"("channel", "type", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "api_token_hash_key" ON "api_token"("hash");

