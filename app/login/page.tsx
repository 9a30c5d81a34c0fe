import type { Metadata } from "next";
import { SignInForm } from "./_components/sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default function LoginPage() {
  return (
    <main className="login-page">
      <section className="login-card" aria-labelledby="login-heading">
        <h1 id="login-heading" className="brand-title">
          Switchboard
        </h1>
        <p className="muted">Sign in with an API token to watch your agents live.</p>
        <SignInForm />
      </section>
    </main>
  );
}
