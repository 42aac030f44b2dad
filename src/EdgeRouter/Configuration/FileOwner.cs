using System.Runtime.InteropServices;

namespace EdgeRouter.Configuration;

/// <summary>
/// The owner (uid, gid) of a file, read and given with <c>statx</c> and <c>chown</c>: .NET has no API for either.
/// An admin edit replaces storages.json by a new file, and a new file belongs to the process's user, so a router
/// running as root would hand the operator's file, secrets and all, to root.
/// </summary>
internal static partial class FileOwner
{
    /// <summary>Gives <paramref name="to"/> the owner of <paramref name="from"/>.</summary>
    /// <returns>False when the owner could not be given (only root may give a file away); the mode still protects it.</returns>
    public static bool Copy(string from, string to)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        var owner = Of(from);
        return owner == Of(to) || Native.Chown(to, owner.Uid, owner.Gid) == 0;
    }

    /// <summary>The owner of <paramref name="path"/> (Linux only).</summary>
    public static (uint Uid, uint Gid) Of(string path)
    {
        // struct statx has the same layout on every Linux architecture, unlike struct stat: stx_uid at byte 20,
        // stx_gid at byte 24, 256 bytes in all.
        Span<byte> buffer = stackalloc byte[256];
        if (Native.Statx(Native.AtCurrentDirectory, path, 0, Native.StatxUid | Native.StatxGid, buffer) != 0)
        {
            throw new IOException($"Could not read the owner of '{path}' (errno {Marshal.GetLastPInvokeError()}).");
        }

        return (MemoryMarshal.Read<uint>(buffer[20..]), MemoryMarshal.Read<uint>(buffer[24..]));
    }

    private static partial class Native
    {
        public const int AtCurrentDirectory = -100;
        public const uint StatxUid = 0x8;
        public const uint StatxGid = 0x10;

        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Statx(int directory, string path, int flags, uint mask, Span<byte> buffer);

        [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Chown(string path, uint owner, uint group);
    }
}
