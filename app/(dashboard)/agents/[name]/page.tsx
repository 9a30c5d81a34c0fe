import type { Metadata } from "next";
import { AgentTimeline } from "./agent-timeline";

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  const { name } = await params;
  return { title: `Agent ${decodeURIComponent(name)}` };
}

export default async function AgentPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return <AgentTimeline name={decodeURIComponent(name)} />;
}
