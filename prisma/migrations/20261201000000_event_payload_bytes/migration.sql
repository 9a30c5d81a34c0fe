-- AlterTable
ALTER TABLE "event" ADD COLUMN     "payload_bytes" INTEGER;
