/**
 * The API's stable error codes (src/domain/errors.ts) and the dossiers' statuses in plain words,
 * Vietnamese and English: what happened and what to do, never the code itself. Every code has its
 * words (the type says so), so a code added to the domain does not reach the screen raw.
 */
import type { DossierStatus } from '../../domain/dossier.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { Lang } from '../shared/format.js';

/** What the words of a refusal may name, read from the error's details. */
export interface ErrorParams {
  /** How long to wait before trying again, in words. */
  wait: string;
  tray: number | null;
  /** The dossier's status, in words (lower case, for inside a sentence). */
  status: string | null;
  size: string | null;
  /** The field refused, in words. */
  field: string | null;
}

type Words = string | ((p: ErrorParams) => string);

export interface ErrorWords {
  codes: Record<ErrorCode, Words>;
  /** The screen could not reach the controller at all. */
  network: string;
  /** A route this controller does not have (an older controller). */
  noRoute: string;
  /** Anything else: an unknown code, a bare HTTP status. */
  other: string;
  /** The fields an officer types, as a refusal names them. */
  fields: Record<string, string>;
  wait: (sec: number) => string;
}

const vi: ErrorWords = {
  codes: {
    VALIDATION_FAILED: (p) =>
      p.field ? `${p.field}: thiếu hoặc chưa đúng dạng.` : 'Thông tin nhập chưa đúng dạng. Kiểm tra lại các ô đã nhập.',
    UNAUTHORIZED: 'Phiên đăng nhập đã hết hoặc mã truy cập không đúng. Vui lòng đăng nhập lại.',
    FORBIDDEN: 'Tài khoản này không được làm việc này.',
    KIOSK_ONLY: 'Việc này chỉ làm được trên màn hình cảm ứng của máy.',
    NOT_FOUND: 'Không tìm thấy. Tải lại trang rồi thử lại.',
    TRAY_NOT_FOUND: 'Máy không có khay số này.',
    TRAY_UNAVAILABLE: (p) =>
      `Không còn khay trống${p.size ? ` cỡ ${p.size} trở lên` : ''} cho kết quả. Chờ người dân nhận bớt, hoặc mang kết quả về bộ phận một cửa.`,
    CONFLICT: 'Việc này vừa được làm ở nơi khác. Màn hình đã cập nhật: xem lại rồi thử lại nếu cần.',
    RESULT_ALREADY_LOADED: (p) =>
      p.tray === null
        ? 'Kết quả này đã có trong máy.'
        : `Kết quả này đã có trong máy, ở khay ${p.tray}${p.status ? ` (${p.status})` : ''}.`,
    ROUND_NOT_FOUND: 'Không tìm thấy lượt thu này. Tải lại trang.',
    ROUND_NOT_OPEN: 'Lượt thu này chưa bắt đầu hoặc đã xong.',
    ITEM_NOT_FOUND: 'Khay này không có trong danh sách (hoặc đã có người trả lời).',
    ITEM_ALREADY_CONFIRMED: 'Khay này đã được xác nhận rồi.',
    PHONE_INVALID: 'Số điện thoại chưa đúng. Nhập đủ 10 chữ số, ví dụ 0912 345 678.',
    PHONE_NOT_VIETNAMESE_MOBILE: 'Đây không phải số di động Việt Nam: số di động bắt đầu bằng 03, 05, 07, 08 hoặc 09.',
    PROCEDURE_NOT_FOUND: 'Không có thủ tục này trong danh mục của máy.',
    PROCEDURE_NOT_ACCEPTED: 'Kết quả của thủ tục này không trả qua máy: trả tại bộ phận một cửa.',
    DOSSIER_CODE_INVALID: 'Mã hồ sơ chưa đúng. Kiểm tra từng ký tự.',
    ONLINE_NUMBER_EXPECTED: 'Đây là mã hồ sơ của máy, không phải số hồ sơ trực tuyến.',
    DOSSIER_ALREADY_DEPOSITED: 'Hồ sơ có số này đang ở trong máy, chờ lượt thu.',
    PAYMENT_EXTENSIONS_USED: 'Đã gia hạn thời gian nộp phí đủ số lần cho phép.',
    TRANSFER_NOT_FOUND: 'Không có giao dịch chuyển khoản này.',
    REFUND_NOT_DUE: 'Giao dịch này đã nộp đúng lệ phí: không phải hoàn tiền.',
    REFUND_ALREADY_RECORDED: 'Khoản hoàn tiền này đã được ghi nhận trước đó.',
    ID_CARD_INVALID: 'Không đọc được thẻ căn cước. Quét lại mặt sau có mã QR.',
    ID_NUMBER_INVALID: 'Số định danh cá nhân chưa đúng: đủ 12 chữ số, kiểm tra lại.',
    HOLDER_ID_REQUIRED:
      'Thẻ căn cước: nhập số định danh cá nhân (12 số) của người nhận. Khi nhận, người dân phải nhập hoặc quét đúng số này.',
    HOLDER_ID_NOT_EXPECTED:
      'Thủ tục này không cần số định danh của người nhận. Nếu đây là thẻ căn cước, chọn lại đúng thủ tục Căn cước; nếu không, để trống ô số định danh.',
    ID_NUMBER_MISMATCH: 'Số định danh không khớp với người nhận.',
    ID_NUMBER_TRIES_EXHAUSTED: 'Đã nhập sai số định danh quá số lần cho phép với mã này.',
    PICKUP_NOT_VERIFIED: 'Chưa nhập mã OTP của lần nhận này.',
    NO_IDENTITY_NEEDED: 'Không có kết quả nào đang chờ số định danh.',
    IDENTITY_WINDOW_CLOSED: 'Đã quá thời gian nhập số định danh sau mã OTP. Bắt đầu lại.',
    ID_SCAN_NOT_FOUND: 'Lần quét thẻ căn cước đã hết hạn (giữ 5 phút). Quét lại thẻ.',
    DOSSIER_NOT_FOUND: 'Không có hồ sơ nào mang mã này.',
    CHALLENGE_NOT_FOUND: 'Phiên giao dịch đã hết.',
    DEPOSIT_NOT_FOUND: 'Không tìm thấy giao dịch nộp hồ sơ này.',
    OTP_INVALID: 'Mã OTP không đúng.',
    OTP_EXPIRED: 'Mã OTP đã hết hạn.',
    OTP_USED: 'Mã OTP đã được dùng.',
    OTP_SENDING: 'Mã OTP đang được gửi. Chờ vài giây.',
    RESEND_TOO_SOON: (p) => `Chưa gửi lại mã được: chờ ${p.wait}.`,
    DOOR_LATCHED: 'Cửa khay còn khóa: mở khóa trước.',
    RATING_TOKEN_NOT_FOUND: 'Đã quá thời gian đánh giá lượt giao dịch này (hoặc không có lượt giao dịch nào như vậy).',
    RATING_ALREADY_GIVEN: 'Lượt giao dịch này đã được đánh giá rồi: mỗi lượt chỉ đánh giá một lần.',
    PAYMENT_SIGNATURE_INVALID: 'Thông báo thanh toán không có chữ ký hợp lệ.',
    PAYMENT_NOTIFICATION_INVALID: 'Thông báo thanh toán không đọc được.',
    PAYMENT_NOT_FOUND: 'Không tìm thấy khoản thanh toán này.',
    PAYMENT_NOT_AWAITED: 'Khoản lệ phí này không còn chờ nộp (đã nộp, hết hạn hoặc đã hủy).',
    RECEIPT_NOT_FOUND: 'Không tìm thấy biên lai này.',
    ACCOUNT_NOT_FOUND: 'Không có tài khoản này.',
    ACCOUNT_NAME_TAKEN: 'Tên đăng nhập này đã có người dùng.',
    ACCOUNT_DISABLED: 'Tài khoản này đã bị khóa.',
    PIN_TOO_WEAK: 'Mã PIN quá dễ đoán. Chọn mã khác.',
    SIGN_IN_FAILED: 'Sai tên, mã PIN, mã xác thực hoặc mã truy cập.',
    SIGN_IN_LOCKED: (p) => `Đăng nhập sai quá nhiều lần: tài khoản tạm khóa. Thử lại sau ${p.wait}.`,
    PAYLOAD_TOO_LARGE: 'Gửi quá nhiều một lần. Chia nhỏ rồi gửi lại.',
    UNSUPPORTED_MEDIA_TYPE: 'Màn hình gửi dữ liệu sai dạng. Tải lại trang.',
    RATE_LIMITED: (p) => `Quá nhiều yêu cầu. Thử lại sau ${p.wait}.`,
    TOO_MANY_REQUESTS: (p) => `Thiết bị này đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ${p.wait}.`,
    SMS_FAILED: 'Không gửi được tin nhắn. Thử lại sau ít phút.',
    BUS_TIMEOUT: 'Máy không liên lạc được với bảng khóa nên khay chưa mở. Thử lại; nếu vẫn không được, báo bộ phận kỹ thuật.',
    BUS_CRC_ERROR: 'Máy không liên lạc được với bảng khóa nên khay chưa mở. Thử lại; nếu vẫn không được, báo bộ phận kỹ thuật.',
    BUS_UNAVAILABLE: 'Máy mất liên lạc với các bảng khóa nên khay chưa mở. Báo bộ phận kỹ thuật.',
    BOARD_OFFLINE: 'Bảng khóa của khay này không trả lời nên khay chưa mở. Báo bộ phận kỹ thuật.',
    SERVICE_UNAVAILABLE: 'Bộ điều khiển chưa làm tiếp được. Thử lại sau ít giây.',
    DB_UNAVAILABLE: (p) => `Cơ sở dữ liệu tạm thời không trả lời. Thử lại sau ${p.wait}.`,
    DOOR_CHANGES_PENDING: (p) => `Máy đang ghi lại một lần đóng mở cửa. Thử lại sau ${p.wait}.`,
    CONFIG_INVALID: 'Bộ điều khiển gặp lỗi cấu hình. Báo bộ phận kỹ thuật.',
    INTERNAL: 'Bộ điều khiển gặp lỗi. Thử lại; nếu vẫn không được, báo bộ phận kỹ thuật.',
  },
  network: 'Mất kết nối với bộ điều khiển. Kiểm tra mạng rồi thử lại.',
  noRoute: 'Chức năng này chưa có trên bộ điều khiển.',
  other: 'Bộ điều khiển báo lỗi. Thử lại; nếu vẫn không được, báo bộ phận kỹ thuật.',
  fields: { dossierCode: 'Mã hồ sơ', phone: 'Số điện thoại', procedureCode: 'Thủ tục', holderIdNumber: 'Số định danh của người nhận' },
  wait: (sec) => (sec >= 60 ? `${Math.ceil(sec / 60)} phút` : `${Math.max(1, Math.ceil(sec))} giây`),
};

const en: ErrorWords = {
  codes: {
    VALIDATION_FAILED: (p) =>
      p.field ? `${p.field}: missing or not in the right form.` : 'Something typed is not in the right form. Check each field.',
    UNAUTHORIZED: 'Your session has ended or the access token is wrong. Please sign in again.',
    FORBIDDEN: 'This account may not do that.',
    KIOSK_ONLY: "This can only be done at the machine's touchscreen.",
    NOT_FOUND: 'Not found. Reload the page and try again.',
    TRAY_NOT_FOUND: 'The machine has no tray with this number.',
    TRAY_UNAVAILABLE: (p) =>
      `No free result tray${p.size ? ` of size ${p.size} or larger` : ''} is left. Wait for citizens to collect some, or take the result to the counter.`,
    CONFLICT: 'This was just done elsewhere. The screen is up to date: look again, and try again if needed.',
    RESULT_ALREADY_LOADED: (p) =>
      p.tray === null
        ? 'This result is already in the machine.'
        : `This result is already in the machine, in tray ${p.tray}${p.status ? ` (${p.status})` : ''}.`,
    ROUND_NOT_FOUND: 'This round was not found. Reload the page.',
    ROUND_NOT_OPEN: 'This round has not started or is already done.',
    ITEM_NOT_FOUND: 'This tray is not on the list (or someone answered already).',
    ITEM_ALREADY_CONFIRMED: 'This tray was already confirmed.',
    PHONE_INVALID: 'That phone number is not right. Enter all 10 digits, e.g. 0912 345 678.',
    PHONE_NOT_VIETNAMESE_MOBILE: 'That is not a Vietnamese mobile number: mobile numbers start with 03, 05, 07, 08 or 09.',
    PROCEDURE_NOT_FOUND: "This procedure is not in the machine's catalogue.",
    PROCEDURE_NOT_ACCEPTED: 'Results of this procedure are not returned through the machine: hand it out at the counter.',
    DOSSIER_CODE_INVALID: 'That dossier code is not right. Check each character.',
    ONLINE_NUMBER_EXPECTED: "This is one of the machine's dossier codes, not an online dossier number.",
    DOSSIER_ALREADY_DEPOSITED: 'A dossier with this number is already in the machine, waiting for the round.',
    PAYMENT_EXTENSIONS_USED: 'More time to pay was given as often as allowed.',
    TRANSFER_NOT_FOUND: 'There is no such transfer.',
    REFUND_NOT_DUE: 'This transfer paid its fee: nothing goes back.',
    REFUND_ALREADY_RECORDED: 'This refund was recorded before.',
    ID_CARD_INVALID: 'The ID card could not be read. Scan the QR code on its back again.',
    ID_NUMBER_INVALID: 'That personal ID number is not right: 12 digits, check it again.',
    HOLDER_ID_REQUIRED:
      "An ID card: enter the recipient's 12-digit personal ID number. At pickup the citizen must type or scan this same number.",
    HOLDER_ID_NOT_EXPECTED:
      "This procedure does not take the recipient's ID number. If this is an ID card, choose the right ID card procedure; if not, leave the ID number empty.",
    ID_NUMBER_MISMATCH: "The ID number is not the recipient's.",
    ID_NUMBER_TRIES_EXHAUSTED: 'Too many wrong ID numbers with this code.',
    PICKUP_NOT_VERIFIED: 'The code of this pickup has not been entered yet.',
    NO_IDENTITY_NEEDED: 'No result is waiting for an ID number.',
    IDENTITY_WINDOW_CLOSED: 'Too long since the code was entered. Start again.',
    ID_SCAN_NOT_FOUND: 'The ID card scan has expired (scans are kept 5 minutes). Scan the card again.',
    DOSSIER_NOT_FOUND: 'No dossier has this code.',
    CHALLENGE_NOT_FOUND: 'This session has ended.',
    DEPOSIT_NOT_FOUND: 'This drop-off was not found.',
    OTP_INVALID: 'Wrong one-time code.',
    OTP_EXPIRED: 'The one-time code has expired.',
    OTP_USED: 'The one-time code was already used.',
    OTP_SENDING: 'The one-time code is on its way. Wait a few seconds.',
    RESEND_TOO_SOON: (p) => `A new code cannot be sent yet: wait ${p.wait}.`,
    DOOR_LATCHED: 'The tray door is still locked: release the lock first.',
    RATING_TOKEN_NOT_FOUND: 'The time to rate this visit is over (or there was no such visit).',
    RATING_ALREADY_GIVEN: 'This visit has been rated already: one rating per visit.',
    PAYMENT_SIGNATURE_INVALID: 'The payment notification has no valid signature.',
    PAYMENT_NOTIFICATION_INVALID: 'The payment notification cannot be read.',
    PAYMENT_NOT_FOUND: 'No such payment.',
    PAYMENT_NOT_AWAITED: 'This fee is no longer waiting to be paid (paid, expired or cancelled).',
    RECEIPT_NOT_FOUND: 'No such receipt.',
    ACCOUNT_NOT_FOUND: 'No such account.',
    ACCOUNT_NAME_TAKEN: 'This user name is taken.',
    ACCOUNT_DISABLED: 'This account is disabled.',
    PIN_TOO_WEAK: 'This PIN is too easy to guess. Choose another.',
    SIGN_IN_FAILED: 'Wrong name, PIN, authenticator code or access token.',
    SIGN_IN_LOCKED: (p) => `Too many wrong sign-ins: the account is locked for a while. Try again in ${p.wait}.`,
    PAYLOAD_TOO_LARGE: 'Too much at once. Send it in smaller parts.',
    UNSUPPORTED_MEDIA_TYPE: 'The screen sent something the controller cannot read. Reload the page.',
    RATE_LIMITED: (p) => `Too many requests. Try again in ${p.wait}.`,
    TOO_MANY_REQUESTS: (p) => `This device has sent too many requests. Please try again in ${p.wait}.`,
    SMS_FAILED: 'The text message could not be sent. Try again in a few minutes.',
    BUS_TIMEOUT: 'The machine could not reach the lock board, so the tray did not open. Try again; if it still fails, call maintenance.',
    BUS_CRC_ERROR: 'The machine could not reach the lock board, so the tray did not open. Try again; if it still fails, call maintenance.',
    BUS_UNAVAILABLE: 'The machine has lost its lock boards, so the tray did not open. Call maintenance.',
    BOARD_OFFLINE: "This tray's lock board does not answer, so the tray did not open. Call maintenance.",
    SERVICE_UNAVAILABLE: 'The controller could not go on. Try again in a few seconds.',
    DB_UNAVAILABLE: (p) => `The database is not answering for the moment. Try again in ${p.wait}.`,
    DOOR_CHANGES_PENDING: (p) => `The machine is still recording a door that moved. Try again in ${p.wait}.`,
    CONFIG_INVALID: 'The controller has a configuration fault. Call maintenance.',
    INTERNAL: 'The controller ran into a fault. Try again; if it still fails, call maintenance.',
  },
  network: 'The controller cannot be reached. Check the network and try again.',
  noRoute: 'This controller does not offer this yet.',
  other: 'The controller reported a fault. Try again; if it still fails, call maintenance.',
  fields: { dossierCode: 'Dossier code', phone: 'Phone number', procedureCode: 'Procedure', holderIdNumber: "Recipient's ID number" },
  wait: (sec) => {
    const n = sec >= 60 ? Math.ceil(sec / 60) : Math.max(1, Math.ceil(sec));
    return sec >= 60 ? `${n} minute${n === 1 ? '' : 's'}` : `${n} second${n === 1 ? '' : 's'}`;
  },
};

export const ERROR_WORDS: Record<Lang, ErrorWords> = { vi, en };

/** A dossier's status, as the officer says it (a table cell). */
export const STATUS_WORDS: Record<Lang, Record<DossierStatus, string>> = {
  vi: {
    verified: 'Đang nộp tại máy',
    tray_open: 'Đang nộp, khay đang mở',
    deposited: 'Đã nộp vào máy, chờ thu',
    collected: 'Đã thu',
    cancelled: 'Đã hủy',
    missing: 'Không thấy trong khay',
    to_check: 'Cần kiểm tra khay',
    loading: 'Đang đưa vào, chờ đóng cửa',
    loaded: 'Đã vào khay, đang nhắn tin',
    notified: 'Đã nhắn tin, chờ người dân nhận',
    picked_up: 'Người dân đã nhận',
    expired: 'Quá hạn nhận: mang về bộ phận một cửa',
    returned_to_counter: 'Đã mang về bộ phận một cửa',
  },
  en: {
    verified: 'Being dropped off',
    tray_open: 'Being dropped off, tray open',
    deposited: 'In the machine, to collect',
    collected: 'Collected',
    cancelled: 'Cancelled',
    missing: 'Not found in its tray',
    to_check: 'Tray to check',
    loading: 'Being loaded, waiting for the door to close',
    loaded: 'In its tray, texting the citizen',
    notified: 'Texted, waiting for the citizen',
    picked_up: 'Picked up by the citizen',
    expired: 'Overdue: take it back to the counter',
    returned_to_counter: 'Taken back to the counter',
  },
};
