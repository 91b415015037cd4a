/**
 * Every word the staff screen says, in Vietnamese (default) and English. The wording is the
 * officers' own: "lượt thu", "đưa kết quả vào máy", "khay cần kiểm tra", "bộ phận một cửa". The
 * API's error codes and the dossiers' statuses are in error-words.ts.
 */
import type { Lang } from '../shared/format.js';
import { ERROR_WORDS, STATUS_WORDS } from './error-words.js';

const vi = {
  heading: 'ATM 24/7 · Cán bộ',
  switchLang: 'English',
  switchLangLabel: 'Switch to English',
  signOut: 'Đăng xuất',
  loading: 'Đang tải…',
  tabs: { round: 'Lượt thu', load: 'Đưa kết quả vào máy', unclaimed: 'Kết quả chưa nhận' },
  signIn: {
    title: 'Đăng nhập cán bộ',
    withPin: 'PIN + mã xác thực',
    withToken: 'Mã truy cập',
    name: 'Tên đăng nhập',
    pin: 'Mã PIN',
    totp: 'Mã xác thực (6 số trên ứng dụng)',
    token: 'Mã truy cập (bearer token)',
    submit: 'Đăng nhập',
    refused: 'Sai tên, mã PIN, mã xác thực hoặc mã truy cập.',
  },
  columns: {
    tray: 'Khay',
    code: 'Mã hồ sơ',
    procedure: 'Thủ tục',
    status: 'Trạng thái',
    kind: 'Loại',
    at: 'Lúc',
    phone: 'Số điện thoại',
  },
  round: {
    heading: (time: string) => `Lượt thu ${time}`,
    status: { upcoming: 'Sắp tới', due: 'Đến giờ', running: 'Đang thu', completed: 'Đã xong', skipped: 'Đã bỏ qua' },
    freeTrays: (s: number, m: number, l: number) => `Khay trống: S ${s} · M ${m} · L ${l}`,
    // A dossier filed online: its code is the number the online system gave (ADR 0029).
    online: 'trực tuyến',
    onlineTitle: 'Hồ sơ nộp trực tuyến: mã là số hồ sơ do Cổng dịch vụ công cấp',
    // The depositor read from a citizen ID card at the deposit (docs/id-card.md).
    depositor: 'Người nộp',
    start: 'Bắt đầu lượt thu (mở các khay lần lượt)',
    startOneByOne: 'Bắt đầu, mở từng khay một',
    complete: (open: number) => `Hoàn tất lượt thu${open ? ` (còn ${open} khay)` : ''}`,
    counts: {
      collected: 'đã lấy',
      returned: 'đã mang về',
      missing: 'không thấy',
      found: 'có hồ sơ',
      empty: 'khay trống',
      leftInPlace: 'để lại trong máy',
    } as Record<string, string>,
    completed: (time: string, counts: string[]) =>
      `Đã hoàn tất lượt thu ${time}: ${counts.length ? counts.join(', ') : 'không có khay nào'}.`,
    itemStatus: {
      pending: 'Chưa mở',
      opened: 'Đã mở',
      collected: 'Đã lấy',
      missing: 'Không thấy',
      returned: 'Đã mang về',
      found: 'Có hồ sơ',
      empty: 'Khay trống',
    },
    collect: { title: 'Hồ sơ cần thu', at: 'Nộp lúc', none: 'Không có hồ sơ nào chờ thu.' },
    feePaid: (amount: string) => `Lệ phí ${amount}: đã nộp`,
    feeUnpaid: (amount: string) => `Lệ phí ${amount}: chưa nộp, thu tại quầy`,
    takeBack: { title: 'Kết quả quá hạn cần mang về', at: 'Quá hạn lúc', none: 'Không có kết quả quá hạn.' },
    openTray: (tray: number) => `Mở khay ${tray}`,
    collectedButton: 'Đã lấy',
    returnedButton: 'Đã mang về',
    missingButton: 'Không thấy',
    doneCollected: (tray: number, code: string) => `Khay ${tray}: đã lấy hồ sơ ${code}.`,
    doneReturned: (tray: number, code: string) => `Khay ${tray}: đã mang về kết quả ${code}.`,
    doneMissing: (tray: number, code: string) => `Khay ${tray}: ghi nhận không thấy ${code}.`,
    checksTitle: (n: number) => `Khay cần kiểm tra trong lượt này (${n})`,
    checksHint: 'Máy không theo dõi được cửa các khay này: mở khay, nhìn vào trong rồi chọn một câu trả lời.',
    checksBeforeStart: 'Trả lời ngay ở mục "Khay cần kiểm tra" bên dưới, hoặc khi lượt thu bắt đầu.',
    checkedElsewhere: 'Đã kiểm tra',
    checkedOutside: 'Đã kiểm tra ngoài lượt',
    checkedOutsideAlready: (tray: number) => `Khay ${tray} đã được kiểm tra ngoài lượt thu, không cần trả lời lại.`,
  },
  outside: {
    title: (n: number | null) => `Khay cần kiểm tra${n === null ? '' : ` (${n})`}`,
    unavailable: 'Bộ điều khiển này chưa có danh sách khay cần kiểm tra.',
    hint:
      'Máy không theo dõi được cửa các khay này (mất điện, bảng khóa không trả lời…) nên không biết trong khay có gì. ' +
      'Nhìn vào khay rồi chọn một câu trả lời; không cần đợi lượt thu.',
    allInRound: 'Các khay cần kiểm tra đều nằm trong lượt thu ở trên.',
    none: 'Không có khay nào cần kiểm tra.',
    gone: (tray: number) => `Khay ${tray} không còn cần kiểm tra (đã có người trả lời).`,
  },
  checks: {
    tray: (tray: number) => `Khay ${tray}`,
    kind: { deposit: 'Hồ sơ người dân nộp', load_result: 'Kết quả đang đưa vào máy', pickup: 'Kết quả đã mở cho người dân nhận' },
    unknownKind: 'Cần kiểm tra',
    since: (when: string) => `Cần kiểm tra từ ${when}`,
    found: 'Có hồ sơ',
    empty: 'Khay trống',
    hints: {
      deposit: {
        found: 'Mang hồ sơ đi (tính là đã thu); người nộp nhận tin nhắn biên nhận.',
        empty: 'Hủy giao dịch nộp, khay được dùng lại; người nộp được nhắn tin báo.',
      },
      load_result: {
        found: 'Để kết quả trong khay; người dân được nhắn tin đến nhận.',
        empty: 'Hủy việc đưa kết quả vào máy, khay được dùng lại.',
      },
      pickup: {
        found: 'Để kết quả trong khay, tiếp tục chờ người dân đến nhận.',
        empty: 'Ghi nhận người dân đã lấy kết quả, khay được dùng lại.',
      },
      unknown: { found: 'Trong khay có hồ sơ hoặc kết quả.', empty: 'Trong khay không có gì.' },
    },
    done: {
      deposit: {
        found: (tray: number, code: string) => `Khay ${tray}: có hồ sơ ${code}. Đã ghi nhận là đã thu; người nộp được nhắn tin biên nhận.`,
        empty: (tray: number, code: string) => `Khay ${tray}: khay trống. Giao dịch nộp ${code} đã hủy; người nộp được nhắn tin báo.`,
      },
      load_result: {
        found: (tray: number, code: string) => `Khay ${tray}: có kết quả ${code}; người dân được nhắn tin đến nhận.`,
        empty: (tray: number, code: string) => `Khay ${tray}: khay trống. Việc đưa kết quả ${code} vào máy đã hủy.`,
      },
      pickup: {
        found: (tray: number, code: string) => `Khay ${tray}: kết quả ${code} vẫn trong khay, tiếp tục chờ người dân nhận.`,
        empty: (tray: number, code: string) => `Khay ${tray}: khay trống. Kết quả ${code} được ghi nhận là người dân đã nhận.`,
      },
      unknown: {
        found: (tray: number, code: string) => `Khay ${tray}: đã ghi nhận có hồ sơ (${code}).`,
        empty: (tray: number, code: string) => `Khay ${tray}: đã ghi nhận khay trống (${code}).`,
      },
    },
  },
  load: {
    title: 'Đưa kết quả vào máy',
    modesLabel: 'Cách đưa vào',
    one: 'Từng kết quả',
    many: 'Nhiều kết quả cùng lúc',
    hint:
      'Nhập mã hồ sơ (hoặc quét), số điện thoại và thủ tục rồi bấm Enter: một khay mở ra, đặt kết quả vào và đóng cửa. ' +
      'Người dân nhận tin nhắn khi cửa đóng. Số điện thoại và thủ tục được giữ cho kết quả tiếp theo.',
    code: 'Mã hồ sơ',
    holderId: 'Số định danh cá nhân của người nhận (12 số)',
    holderIdHint: 'Thẻ căn cước: khi nhận, người dân phải nhập hoặc quét đúng số này cùng mã OTP. Máy chỉ lưu dạng mã hóa một chiều.',
    phone: 'Số điện thoại người nhận',
    procedure: 'Thủ tục',
    submit: 'Mở khay và đưa vào',
    busy: 'Đang mở khay…',
    waitingProcedures: 'Đang tải danh mục thủ tục…',
    opened: (tray: number, code: string) => `Khay số ${tray} đã mở: đặt kết quả ${code} vào và đóng cửa.`,
    cancelled: (tray: number | null, code: string) =>
      `Khay số ${tray ?? '?'}: cửa không được mở nên việc đưa kết quả ${code} vào máy đã hủy. Khay được dùng lại; đưa lại kết quả nếu cần.`,
    sessionTitle: (n: number) => `Đưa vào trong phiên này (${n})`,
  },
  batch: {
    hint:
      'Mỗi dòng một kết quả: mã hồ sơ (hoặc quét), số điện thoại người nhận và thủ tục; dòng để trống được bỏ qua. ' +
      'Mỗi kết quả được một khay mở ra: đặt từng kết quả vào khay của nó và đóng cửa. Người dân nhận tin nhắn khi cửa đóng.',
    rowCode: (row: number) => `Mã hồ sơ, dòng ${row}`,
    rowPhone: (row: number) => `Số điện thoại, dòng ${row}`,
    rowProcedure: (row: number) => `Thủ tục, dòng ${row}`,
    rowHolderId: (row: number) => `Số định danh của người nhận, dòng ${row}`,
    removeRow: (row: number) => `Bỏ dòng ${row}`,
    remove: 'Bỏ',
    addRow: 'Thêm dòng',
    most: (n: number) => `Tối đa ${n} dòng một lần.`,
    submit: (n: number) => `Mở khay cho ${n} kết quả`,
    busy: 'Đang mở khay…',
    sentTitle: 'Lô vừa gửi',
    itemOpened: (code: string, tray: number) => `${code}: khay số ${tray} đã mở: đặt kết quả vào và đóng cửa.`,
    itemRefused: (code: string, why: string) => `${code || '(không có mã)'}: chưa đưa vào được. ${why}`,
    allOpened: (n: number) => `Đã mở ${n} khay: đặt từng kết quả vào khay của nó và đóng cửa.`,
    someRefused: (opened: number, refused: number) => `Đã mở ${opened} khay; ${refused} hồ sơ chưa đưa vào được (xem từng dòng).`,
  },
  unclaimed: {
    title: 'Kết quả chưa nhận',
    none: 'Không có kết quả nào đang chờ.',
    loadedAt: 'Đưa vào',
    deadline: 'Hạn nhận',
    late: 'Quá hạn: mang về bộ phận một cửa',
  },
  status: STATUS_WORDS.vi,
  errors: ERROR_WORDS.vi,
};

export type Texts = typeof vi;

const en: Texts = {
  heading: 'ATM 24/7 · Staff',
  switchLang: 'Tiếng Việt',
  switchLangLabel: 'Chuyển sang tiếng Việt',
  signOut: 'Sign out',
  loading: 'Loading…',
  tabs: { round: 'Collection round', load: 'Load results', unclaimed: 'Results not collected' },
  signIn: {
    title: 'Staff sign-in',
    withPin: 'PIN + authenticator code',
    withToken: 'Access token',
    name: 'User name',
    pin: 'PIN',
    totp: 'Authenticator code (6 digits in the app)',
    token: 'Access token (bearer token)',
    submit: 'Sign in',
    refused: 'Wrong name, PIN, authenticator code or access token.',
  },
  columns: {
    tray: 'Tray',
    code: 'Dossier code',
    procedure: 'Procedure',
    status: 'Status',
    kind: 'Kind',
    at: 'At',
    phone: 'Phone number',
  },
  round: {
    heading: (time) => `Collection round ${time}`,
    status: { upcoming: 'Upcoming', due: 'Due', running: 'Under way', completed: 'Done', skipped: 'Skipped' },
    freeTrays: (s, m, l) => `Free trays: S ${s} · M ${m} · L ${l}`,
    online: 'filed online',
    onlineTitle: 'Filed online: the code is the number the public-service portal gave',
    depositor: 'Depositor',
    start: 'Start the round (open the trays in turn)',
    startOneByOne: 'Start, opening one tray at a time',
    complete: (open) => `Complete the round${open ? ` (${open} tray${open === 1 ? '' : 's'} left)` : ''}`,
    counts: {
      collected: 'collected',
      returned: 'taken back',
      missing: 'not found',
      found: 'dossier found',
      empty: 'tray empty',
      leftInPlace: 'left in the machine',
    },
    completed: (time, counts) => `Round ${time} completed: ${counts.length ? counts.join(', ') : 'no tray'}.`,
    itemStatus: {
      pending: 'Not opened',
      opened: 'Opened',
      collected: 'Collected',
      missing: 'Not found',
      returned: 'Taken back',
      found: 'Dossier found',
      empty: 'Tray empty',
    },
    collect: { title: 'Dossiers to collect', at: 'Dropped off', none: 'No dossier waits to be collected.' },
    feePaid: (amount: string) => `Fee ${amount}: paid`,
    feeUnpaid: (amount: string) => `Fee ${amount}: unpaid, collect at the counter`,
    takeBack: { title: 'Overdue results to take back', at: 'Overdue since', none: 'No overdue result.' },
    openTray: (tray) => `Open tray ${tray}`,
    collectedButton: 'Collected',
    returnedButton: 'Taken back',
    missingButton: 'Not found',
    doneCollected: (tray, code) => `Tray ${tray}: dossier ${code} collected.`,
    doneReturned: (tray, code) => `Tray ${tray}: result ${code} taken back.`,
    doneMissing: (tray, code) => `Tray ${tray}: ${code} recorded as not found.`,
    checksTitle: (n) => `Trays to check in this round (${n})`,
    checksHint: 'The machine could not watch the doors of these trays: open the tray, look inside, then choose an answer.',
    checksBeforeStart: 'Answer now under "Trays to check" below, or once the round starts.',
    checkedElsewhere: 'Checked',
    checkedOutside: 'Checked outside the round',
    checkedOutsideAlready: (tray) => `Tray ${tray} was checked outside the round; no need to answer again.`,
  },
  outside: {
    title: (n) => `Trays to check${n === null ? '' : ` (${n})`}`,
    unavailable: 'This controller has no list of trays to check yet.',
    hint:
      'The machine could not watch the doors of these trays (a power cut, a lock board not answering…), so it does not know what is ' +
      'in them. Look into the tray, then choose an answer; no need to wait for a round.',
    allInRound: 'The trays to check are all in the round above.',
    none: 'No tray to check.',
    gone: (tray) => `Tray ${tray} no longer needs checking (someone answered).`,
  },
  checks: {
    tray: (tray) => `Tray ${tray}`,
    kind: { deposit: "A citizen's dossier", load_result: 'A result being loaded', pickup: 'A result opened for its citizen' },
    unknownKind: 'To check',
    since: (when) => `To check since ${when}`,
    found: 'Dossier found',
    empty: 'Tray empty',
    hints: {
      deposit: {
        found: 'Take the dossier (counted as collected); the citizen gets a receipt by text.',
        empty: 'Cancel the drop-off, the tray is used again; the citizen is texted.',
      },
      load_result: {
        found: 'Leave the result in the tray; the citizen is texted to come.',
        empty: 'Cancel loading the result, the tray is used again.',
      },
      pickup: {
        found: 'Leave the result in the tray and keep waiting for the citizen.',
        empty: 'Record the result as picked up, the tray is used again.',
      },
      unknown: { found: 'There is a dossier or a result in the tray.', empty: 'There is nothing in the tray.' },
    },
    done: {
      deposit: {
        found: (tray, code) => `Tray ${tray}: dossier ${code} found. Recorded as collected; the citizen is texted a receipt.`,
        empty: (tray, code) => `Tray ${tray}: empty. Drop-off ${code} cancelled; the citizen is texted.`,
      },
      load_result: {
        found: (tray, code) => `Tray ${tray}: result ${code} found; the citizen is texted to come.`,
        empty: (tray, code) => `Tray ${tray}: empty. Loading result ${code} was cancelled.`,
      },
      pickup: {
        found: (tray, code) => `Tray ${tray}: result ${code} is still there; waiting for the citizen.`,
        empty: (tray, code) => `Tray ${tray}: empty. Result ${code} recorded as picked up.`,
      },
      unknown: {
        found: (tray, code) => `Tray ${tray}: recorded as holding a dossier (${code}).`,
        empty: (tray, code) => `Tray ${tray}: recorded as empty (${code}).`,
      },
    },
  },
  load: {
    title: 'Load results',
    modesLabel: 'How to load',
    one: 'One at a time',
    many: 'Several at once',
    hint:
      'Type the dossier code (or scan it), the phone number and the procedure, then press Enter: a tray opens; put the result in and ' +
      'close the door. The citizen is texted when the door closes. The phone number and the procedure stay for the next result.',
    code: 'Dossier code',
    holderId: "Recipient's personal ID number (12 digits)",
    holderIdHint:
      'An ID card: at pickup the citizen must type or scan this same number as well as the SMS code. Only a one-way keyed hash is kept.',
    phone: 'Recipient phone number',
    procedure: 'Procedure',
    submit: 'Open a tray and load',
    busy: 'Opening a tray…',
    waitingProcedures: 'Loading the procedures…',
    opened: (tray, code) => `Tray ${tray} is open: put result ${code} in and close the door.`,
    cancelled: (tray, code) =>
      `Tray ${tray ?? '?'}: its door was never opened, so loading result ${code} was cancelled. The tray is free again; load the result again if needed.`,
    sessionTitle: (n) => `Loaded in this session (${n})`,
  },
  batch: {
    hint:
      'One result a line: the dossier code (or scan it), the phone number and the procedure; empty lines are skipped. Each result ' +
      'gets a tray of its own: put each one in its tray and close the door. The citizen is texted when the door closes.',
    rowCode: (row) => `Dossier code, line ${row}`,
    rowPhone: (row) => `Phone number, line ${row}`,
    rowProcedure: (row) => `Procedure, line ${row}`,
    rowHolderId: (row) => `Recipient's ID number, line ${row}`,
    removeRow: (row) => `Remove line ${row}`,
    remove: 'Remove',
    addRow: 'Add a line',
    most: (n) => `At most ${n} lines at once.`,
    submit: (n) => `Open trays for ${n} result${n === 1 ? '' : 's'}`,
    busy: 'Opening trays…',
    sentTitle: 'Batch just sent',
    itemOpened: (code, tray) => `${code}: tray ${tray} is open: put the result in and close the door.`,
    itemRefused: (code, why) => `${code || '(no code)'}: not loaded. ${why}`,
    allOpened: (n) => `${n} tray${n === 1 ? '' : 's'} opened: put each result in its tray and close the door.`,
    someRefused: (opened, refused) =>
      `${opened} tray${opened === 1 ? '' : 's'} opened; ${refused} dossier${refused === 1 ? '' : 's'} not loaded (see each line).`,
  },
  unclaimed: {
    title: 'Results not collected',
    none: 'No result is waiting.',
    loadedAt: 'Loaded',
    deadline: 'Collect by',
    late: 'Overdue: take it back to the counter',
  },
  status: STATUS_WORDS.en,
  errors: ERROR_WORDS.en,
};

const TEXTS: Record<Lang, Texts> = { vi, en };

export function textsFor(lang: Lang): Texts {
  return TEXTS[lang];
}
