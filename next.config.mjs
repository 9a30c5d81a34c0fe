/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/) is not part of the Next.js build; pages talk to it over HTTP and Socket.IO.
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
