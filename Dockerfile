# syntax=docker/dockerfile:1
# The Proximity server image: build with the .NET SDK, run on the ASP.NET Core runtime in an Ubuntu
# chiseled image (no shell, no package manager, non-root). The "-extra" variant carries tzdata,
# which the ban schedules need (Europe/Amsterdam wall-clock time).
#
#   docker build -t proximity:latest .
#   docker run --rm proximity:latest --help

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Build inputs only (.dockerignore keeps tests, benchmarks, deploy and build output out).
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore src/Proximity.Server/Proximity.Server.csproj
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Proximity.Server/Proximity.Server.csproj -c Release --no-restore \
      -o /app -p:UseAppHost=true -p:DebugType=none -p:GenerateDocumentationFile=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra AS runtime
WORKDIR /app
COPY --from=build /app ./
# The server binds its own port (Proximity:Http:Port); keep the base image's default URL out of the way.
ENV ASPNETCORE_HTTP_PORTS= \
    Proximity__Http__Port=5080
# 5080 HTTP API, /health, /metrics · 11111 Orleans silo-to-silo · 30000 Orleans gateway
EXPOSE 5080 11111 30000
# The non-root user of the chiseled images (uid 1654, "app").
USER 1654:1654
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/app/proximity", "health"]
ENTRYPOINT ["/app/proximity"]
CMD ["run"]
