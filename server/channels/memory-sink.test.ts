import { MemorySink } from "./memory-sink";
import { describeSubscriberSinkContract } from "./subscriber-sink.contract";

describeSubscriberSinkContract("MemorySink", async () => {
  const sink = new MemorySink();
  return {
    sink,
    received: () => sink.log,
    ended: () => sink.closedWith !== null,
    // The peer's buffers still hold 100 events; then the sink is full.
    stopReading: () => {
      sink.room = 100;
    },
    resumeReading: () => {
      sink.room = Number.POSITIVE_INFINITY;
      sink.setWritable();
    },
    dispose: async () => {},
  };
});
