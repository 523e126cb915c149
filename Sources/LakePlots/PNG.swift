#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LakeStore

/// SVG → PNG through librsvg and cairo (Debian: librsvg2-2), loaded when a PNG is first asked
/// for: commands that draw SVG, and every other command, never load them. The picture is the
/// same SVG lake writes, drawn by GNOME's renderer at `scale` (2: sharp on a laptop screen).
public enum PNGRenderer {
    /// GError* and RsvgRectangle* are passed as raw pointers: a GError is {guint32 domain;
    /// gint code; gchar *message}, an RsvgRectangle four doubles (x, y, width, height).
    private typealias NewFromData = @convention(c) (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> OpaquePointer?
    private typealias IntrinsicSize = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?) -> Int32
    private typealias RenderDocument = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<Double>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    private typealias SurfaceCreate = @convention(c) (Int32, Int32, Int32) -> OpaquePointer?
    private typealias Create = @convention(c) (OpaquePointer?) -> OpaquePointer?
    private typealias Scale = @convention(c) (OpaquePointer?, Double, Double) -> Void
    private typealias WritePNG = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    private typealias Destroy = @convention(c) (OpaquePointer?) -> Void
    private typealias Unref = @convention(c) (UnsafeMutableRawPointer?) -> Void
    private typealias ErrorFree = @convention(c) (UnsafeMutableRawPointer?) -> Void

    private struct Library: @unchecked Sendable {
        let newFromData: NewFromData, size: IntrinsicSize, render: RenderDocument
        let surfaceCreate: SurfaceCreate, create: Create, scale: Scale, writePNG: WritePNG
        let destroy: Destroy, surfaceDestroy: Destroy, unref: Unref, errorFree: ErrorFree
    }

    private static let library: Result<Library, LakeError> = {
        func open(_ names: [String]) -> UnsafeMutableRawPointer? {
            for n in names { if let h = dlopen(n, RTLD_NOW | RTLD_LOCAL) { return h } }
            return nil
        }
        let missing = LakeError.usage("PNG output needs librsvg and cairo (Debian: apt install librsvg2-2); SVG output works without them")
        guard let rsvg = open(["librsvg-2.so.2", "librsvg-2.so"]), let cairo = open(["libcairo.so.2", "libcairo.so"]),
              let gobject = open(["libgobject-2.0.so.0"]), let glib = open(["libglib-2.0.so.0"]) else { return .failure(missing) }
        func symbol<T>(_ handle: UnsafeMutableRawPointer, _ name: String, _: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let a = symbol(rsvg, "rsvg_handle_new_from_data", NewFromData.self),
              let size = symbol(rsvg, "rsvg_handle_get_intrinsic_size_in_pixels", IntrinsicSize.self),
              let b = symbol(rsvg, "rsvg_handle_render_document", RenderDocument.self),
              let c = symbol(cairo, "cairo_image_surface_create", SurfaceCreate.self),
              let d = symbol(cairo, "cairo_create", Create.self),
              let e = symbol(cairo, "cairo_scale", Scale.self),
              let f = symbol(cairo, "cairo_surface_write_to_png", WritePNG.self),
              let g = symbol(cairo, "cairo_destroy", Destroy.self),
              let h = symbol(cairo, "cairo_surface_destroy", Destroy.self),
              let i = symbol(gobject, "g_object_unref", Unref.self),
              let j = symbol(glib, "g_error_free", ErrorFree.self) else {
            return .failure(LakeError.usage("the installed librsvg is too old for PNG output (2.52 or newer needed); SVG output works"))
        }
        return .success(Library(newFromData: a, size: size, render: b, surfaceCreate: c, create: d, scale: e, writePNG: f, destroy: g, surfaceDestroy: h,
                                unref: i, errorFree: j))
    }()

    /// Draws `svg` into a PNG file at `path`, `scale` pixels per unit of its width and height.
    public static func write(svg: String, scale: Double = 2, to path: String) throws {
        let lib = try library.get()
        var error: UnsafeMutableRawPointer?
        func message(_ fallback: String) -> String {
            guard let error else { return fallback }
            defer { lib.errorFree(error) }
            return error.load(fromByteOffset: 8, as: UnsafeMutablePointer<CChar>?.self).map { String(cString: $0) } ?? fallback
        }
        let bytes = Array(svg.utf8)
        guard let handle = bytes.withUnsafeBufferPointer({ lib.newFromData($0.baseAddress, $0.count, &error) }) else {
            throw LakeError.usage("cannot draw the plot: \(message("unreadable SVG"))")
        }
        defer { lib.unref(UnsafeMutableRawPointer(handle)) }
        var width = 0.0, height = 0.0
        guard lib.size(handle, &width, &height) != 0, width > 0, height > 0 else {
            throw LakeError.usage("cannot draw the plot: the SVG gives no width and height")
        }
        let w = Int32((width * scale).rounded()), h = Int32((height * scale).rounded())
        guard let surface = lib.surfaceCreate(0 /* CAIRO_FORMAT_ARGB32 */, w, h) else { throw LakeError.usage("cannot make a \(w)×\(h) image") }
        defer { lib.surfaceDestroy(surface) }
        guard let cr = lib.create(surface) else { throw LakeError.usage("cannot draw into the image") }
        defer { lib.destroy(cr) }
        lib.scale(cr, scale, scale)
        let viewport = [0, 0, width, height]
        guard lib.render(handle, cr, viewport, &error) != 0 else {
            throw LakeError.usage("cannot draw the plot: \(message("rendering failed"))")
        }
        let status = lib.writePNG(surface, path)
        guard status == 0 else { throw LakeError.usage("cannot write \(path) (cairo status \(status))") }
    }
}
