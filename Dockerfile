# syntax=docker/dockerfile:1
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/EdgeRouter/EdgeRouter.csproj src/EdgeRouter/
COPY src/EdgeRouter.Admin/EdgeRouter.Admin.csproj src/EdgeRouter.Admin/
RUN dotnet restore src/EdgeRouter/EdgeRouter.csproj
COPY src/ src/
RUN dotnet publish src/EdgeRouter/EdgeRouter.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
COPY config/storages.json config/storages.json
# config/ may be mounted read-only; data/ (catalog and local storage) must be a writable volume.
RUN mkdir -p /app/data && chown -R $APP_UID /app/data
USER $APP_UID
ENV ASPNETCORE_URLS=http://+:8080 \
    EdgeRouter__SiteUrl=http://localhost:8080/ \
    DOTNET_gcServer=1
EXPOSE 8080
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["dotnet", "EdgeRouter.dll", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["dotnet", "EdgeRouter.dll"]
