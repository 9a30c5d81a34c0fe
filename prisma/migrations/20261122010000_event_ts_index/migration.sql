-- CreateIndex
CREATE INDEX "event_channel_ts_idx" ON "event"("channel", "ts");
