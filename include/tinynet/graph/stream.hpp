// StreamWindow: a network's input as the last N frames of a stream, without copying the window.
//
// Audio and sensor models look at a sliding window: kws_ref_model at the last 49 frames of 10
// MFCCs, the MLPerf Tiny anomaly detector at the last 5 frames of 128 mel bins. Shifting the
// window by one frame would move the whole window; a plain ring buffer would need the network to
// wrap its reads. StreamWindow keeps 2N - 1 frames and writes each new frame twice (at its slot
// and N slots later), so the last N frames are always N consecutive frames in memory, oldest
// first; Instance::invoke_from(stream) reads the network's input straight from there.
//
//   static tinynet::Instance<net> instance;
//   static tinynet::StreamWindow<net, 128> stream;      // 5 x 128 for a 640-value input
//   void on_frame(std::span<const std::int8_t, 128> mel) {
//     stream.push(mel);                                   // two frame copies, whatever N is
//     if (stream.full()) instance.invoke_from(stream);    // the window is read in place
//   }
//
// Cost: (N - 1) frames of RAM beyond the window, and 2 frame writes per frame instead of a window
// copy (N frames) per inference. Zero-initialised and constant-initialised: declare it static.
#pragma once

#include <cstddef>
#include <span>

namespace tinynet {

template <class Net, std::size_t FrameElements, std::size_t Input = 0>
class StreamWindow {
  using tensor = typename Net::template input_t<Input>;

 public:
  using element = typename tensor::element;
  static constexpr std::size_t frame_size = FrameElements;
  static constexpr std::size_t window_size = static_cast<std::size_t>(tensor::size);
  static_assert(FrameElements > 0 && window_size % FrameElements == 0,
                "tinynet: StreamWindow: the network's input must be a whole number of frames of FrameElements values");
  static constexpr std::size_t frames = window_size / FrameElements;

  // Appends a frame; the oldest one leaves the window.
  void push(std::span<const element, FrameElements> frame) {
    element* first = buffer_ + slot_ * FrameElements;
    for (std::size_t i = 0; i < FrameElements; ++i) first[i] = frame[i];
    if (slot_ + 1 < frames) {  // the copy N slots later (the last slot's would be past the end: not needed)
      element* second = first + window_size;
      for (std::size_t i = 0; i < FrameElements; ++i) second[i] = frame[i];
    }
    slot_ = slot_ + 1 == frames ? 0 : slot_ + 1;
    if (pushed_ < frames) ++pushed_;
  }

  // True once N frames have been pushed (before that the window starts with zeros).
  bool full() const { return pushed_ == frames; }

  // The last N frames, oldest first, contiguous: what the network reads.
  std::span<const element, window_size> window() const {
    return std::span<const element, window_size>(buffer_ + slot_ * FrameElements, window_size);
  }

  // Forgets the stream (the window reads zeros again).
  void reset() {
    for (element& v : buffer_) v = element{};
    slot_ = 0;
    pushed_ = 0;
  }

 private:
  element buffer_[2 * window_size - FrameElements]{};
  std::size_t slot_ = 0;    // where the next frame goes; also where the window starts
  std::size_t pushed_ = 0;  // frames pushed, up to N
};

}  // namespace tinynet
